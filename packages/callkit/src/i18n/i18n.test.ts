/**
 * Every language has every message with the same placeholders, and no UI string of the kit lives
 * outside the message tables: a scan of the kit's sources fails on an English sentence in code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MESSAGES, isLanguage, language, onLanguageChange, setLanguage, t } from './index.js';
import type { Language } from './index.js';

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/gu)].map((m) => m[1] ?? '').sort();

describe('message tables', () => {
  const english = MESSAGES.en;
  for (const lang of Object.keys(MESSAGES) as Language[]) {
    it(`${lang} has exactly the English keys, each non-empty with the same placeholders`, () => {
      const table = MESSAGES[lang];
      const missing = Object.keys(english).filter((k) => !Object.hasOwn(table, k));
      const extra = Object.keys(table).filter((k) => !Object.hasOwn(english, k));
      assert.deepEqual(missing, [], `${lang} misses keys`);
      assert.deepEqual(extra, [], `${lang} has keys English does not`);
      for (const [key, text] of Object.entries(english)) {
        const other = (table as Record<string, string>)[key] ?? '';
        assert.ok(other.trim() !== '', `${lang} ${key} is empty`);
        assert.deepEqual(placeholders(other), placeholders(text), `${lang} ${key} placeholders`);
      }
    });
  }

  it('t() fills placeholders in the current language and switching tells subscribers', () => {
    const seen: string[] = [];
    const off = onLanguageChange(() => seen.push(language()));
    try {
      assert.equal(t('toast.left', { name: 'Bob' }), 'Bob left the call');
      setLanguage('ja');
      assert.equal(t('toast.left', { name: 'Bob' }), 'Bob が通話から退出しました');
      setLanguage('zh-cn');
      assert.equal(t('incoming.acceptVideo'), '接听视频通话');
      assert.deepEqual(seen, ['ja', 'zh-cn']);
      assert.throws(() => setLanguage('fr' as Language), /unsupported language fr/);
      assert.equal(isLanguage('en'), true);
      assert.equal(isLanguage('de'), false);
    } finally {
      setLanguage('en');
      off();
    }
  });
});

describe('no UI string outside the tables', () => {
  const src = fileURLToPath(new URL('..', import.meta.url));
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'i18n') walk(p);
      } else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) files.push(p);
    }
  };
  walk(src);

  /**
   * A UI string: a string literal that reads as words for a person, i.e. a capitalised word
   * followed by another word ('Hang up'), or text ending like a sentence ('Ringing…', 'No camera.').
   * Class names, attribute values and keys are lower-case tokens and pass. Comments, CSS
   * (styles.ts) and errors for developers (thrown Errors) are not UI.
   */
  const literal = /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\\n]|\\.)*`/gu;
  const reads = (text: string): boolean => /\b[A-Z][a-z]+\s+[A-Za-z]/u.test(text) || /[A-Za-z]{2,}(…|\.|!|\?)$/u.test(text);
  const isUiLiteral = (lit: string): boolean => reads(lit.slice(1, -1));
  const allowed = (line: string): boolean =>
    /^\s*(\*|\/\/|\/\*)/u.test(line) || /throw new (Type)?Error\(/u.test(line) || /^\s*import /u.test(line);

  it('finds no English sentence in the kit code (only message keys)', () => {
    const offenders: string[] = [];
    for (const file of files) {
      if (file.endsWith('styles.ts')) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (allowed(line)) return;
          if ((line.match(literal) ?? []).some(isUiLiteral)) offenders.push(`${relative(src, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(offenders, []);
  });

  it('the scan itself catches a sentence in code and passes keys and class names', () => {
    const found = (line: string): boolean => (line.match(literal) ?? []).some(isUiLiteral);
    assert.ok(found(`h('p', {}, 'Call ended')`));
    assert.ok(found(`el.textContent = "Ringing…";`));
    assert.ok(found('toast(`No camera found.`)'));
    assert.ok(!found(`t('end.ended')`));
    assert.ok(!found(`h('button', { class: 'btn primary', attrs: { type: 'button' } })`));
  });
});
