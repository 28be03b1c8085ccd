/**
 * HTTP routes of offline push (SPEC §9): the VAPID public key for `pushManager.subscribe`, and
 * `POST /push/action`, which a notification uses to decline or report `shown` with its action
 * token only (no UserSig: the service worker has none).
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCode, PushActionBodySchema } from '@opencall/protocol';
import type { CallService } from '../call/CallService.js';
import { MachineError } from '../call/MachineError.js';
import type { Storage } from '../storage/Storage.js';
import { verifyActionToken } from './actionToken.js';

/** What the routes need. */
export interface PushRouteDeps {
  storage: Storage;
  service: CallService;
  /** The Web Push public key, or null when Web Push is not configured. */
  vapidPublicKey: string | null;
  tokenKey: Buffer;
  now?: () => number;
}

const error = (code: number, message: string) => ({ error: { code, message } });

/** Registers `GET /push/vapid-public-key` and `POST /push/action`. */
export function registerPushRoutes(app: FastifyInstance, d: PushRouteDeps): void {
  const now = d.now ?? Date.now;

  app.get('/push/vapid-public-key', async (_req, reply) => {
    if (!d.vapidPublicKey) return reply.code(404).send(error(ErrorCode.STATE_REFUSED, 'Web Push is not configured on this server (push.vapid)'));
    return { publicKey: d.vapidPublicKey };
  });

  app.post('/push/action', async (req, reply) => {
    const parsed = PushActionBodySchema.safeParse(req.body);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return reply.code(400).send(error(ErrorCode.INVALID_PARAMETER, i ? `${i.path.join('.') || 'body'}: ${i.message}` : 'invalid body'));
    }
    const { callId, userId, action, token } = parsed.data;
    const call = await d.storage.getCall(callId);
    const deadline = call?.members[userId]?.pushDeadline;
    // One answer for "no such call", "not pushed" and "wrong token": a caller learns nothing by guessing.
    if (typeof deadline !== 'number' || !verifyActionToken(d.tokenKey, token, callId, userId, deadline)) {
      return reply.code(403).send(error(ErrorCode.PUSH_TOKEN_REFUSED, 'push action token refused'));
    }
    const t = now();
    if (t > deadline) return reply.code(403).send(error(ErrorCode.PUSH_TOKEN_REFUSED, 'push action token expired: the invitation deadline passed'));
    if (action === 'shown') {
      await d.storage.appendTrace([{ callId, userId, deviceId: null, step: 'notification.shown', time: t, detail: null }]);
      return { ok: true };
    }
    try {
      await d.service.run(callId, { type: 'pushReject', userId });
    } catch (e) {
      if (e instanceof MachineError) return reply.code(409).send(error(e.code, `the invitation has ended: ${e.message}`));
      throw e;
    }
    return { ok: true };
  });
}
