import { describe, expect, it } from 'vitest';
import { DomainError } from '../src/core/errors.ts';
import { cleanName, cleanText } from '../src/core/strings.ts';

// Issue 20 (d): Unicode that should not be stored is refused; free text is NFC-normalised.

const code = (run: () => unknown) => {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof DomainError ? error.code : String(error);
  }
};

describe('text validation', () => {
  it.each([
    ['a lone high surrogate', 'Acme \uD800'],
    ['a lone low surrogate', '\uDC00Acme'],
    ['a reversed pair', 'Acme \uDE00\uD83D'],
  ])('refuses %s in free text and in names', (_, value) => {
    expect(code(() => cleanText(value, 'reason', 200))).toBe('INVALID_TEXT');
    expect(code(() => cleanName(value, 'name', 200))).toBe('INVALID_TEXT');
  });

  it.each([
    ['a right-to-left override', 'Acme\u202Egnp.exe'],
    ['a left-to-right embedding', '\u202AAcme'],
    ['a right-to-left isolate', 'Acme\u2067x\u2069'],
    ['a right-to-left mark', 'Acme\u200F'],
    ['a zero-width space', 'Ac\u200Bme'],
    ['a zero-width joiner', 'Ac\u200Dme'],
    ['a word joiner', 'Ac\u2060me'],
    ['a byte-order mark', 'Ac\uFEFFme'],
    ['a soft hyphen', 'Ac\u00ADme'],
    ['a tag character', 'Acme\u{E0041}'],
    ['a Hangul filler', 'Acme\u3164'],
    ['a line separator', 'Ac\u2028me'],
    ['a private-use character', 'Acme\uE000'],
  ])('refuses %s in a name or code', (_, value) => {
    expect(code(() => cleanName(value, 'name', 200))).toBe('INVALID_TEXT');
  });

  it('keeps real names in any script, emoji pairs included', () => {
    for (const name of ['Müller GmbH', 'שלום בע"מ', 'شركة', '株式会社', 'Ｆｕｌｌｗｉｄｔｈ', 'Café 😀']) {
      expect(cleanName(name, 'name', 200)).toBe(name.normalize('NFC'));
    }
  });

  it('NFC-normalises, so equal-looking texts are equal', () => {
    expect(cleanText('Cafe\u0301', 'reason', 200)).toBe('Café');
    expect(cleanName('Cafe\u0301', 'name', 200)).toBe('Caf\u00E9');
    expect(cleanText('Cafe\u0301', 'reason', 200).length).toBe(4);
  });
});
