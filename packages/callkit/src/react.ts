/**
 * `@opencall/callkit/react`: the kit as a React component. It mounts {@link CallKit} into a
 * `<div>` once and hands the instance to `onReady`; everything else (init, calls…) goes through
 * that instance, exactly as without React.
 *
 * ```tsx
 * <CallKitView source={{ serverUrl, sdkAppId }} onReady={(kit) => kit.init({ userId, userSig })} />
 * ```
 * @packageDocumentation
 */
import { createElement, useEffect, useRef } from 'react';
import type { CSSProperties, ReactElement } from 'react';
import { CallKit } from './CallKit.js';
import type { CallKitOptions } from './CallKit.js';

/** Props of {@link CallKitView}. */
export interface CallKitViewProps {
  /** Mount options (engine source, hooks, fill, language); read once, on mount. */
  options: CallKitOptions;
  /** Called with the mounted kit. */
  onReady?: (kit: CallKit) => void;
  /** Class and style of the wrapping `<div>`. */
  className?: string;
  style?: CSSProperties;
}

/** Mounts the call kit for the component's lifetime (destroyed on unmount). */
export function CallKitView(props: CallKitViewProps): ReactElement {
  const host = useRef<HTMLDivElement>(null);
  const latest = useRef(props);
  latest.current = props;
  useEffect(() => {
    const el = host.current;
    if (!el) return undefined;
    let kit: CallKit | null = null;
    let gone = false;
    void CallKit.mount(el, latest.current.options).then((k) => {
      if (gone) {
        void k.destroy();
        return;
      }
      kit = k;
      latest.current.onReady?.(k);
    });
    return () => {
      gone = true;
      void kit?.destroy();
    };
  }, []);
  return createElement('div', { ref: host, className: props.className, style: props.style });
}

export { CallKit };
export type { CallKitOptions };
