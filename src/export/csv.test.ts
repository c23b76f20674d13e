import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from './csv';

describe('csv', () => {
  it('quotes commas, quotes and line breaks, and leaves plain text alone', () => {
    expect(csvField('red star')).toBe('red star');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "cheese"')).toBe('"say ""cheese"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(0.25)).toBe('0.25');
    expect(csvField(null)).toBe('');
  });

  it('defuses text a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@sum')).toBe("'@sum");
    expect(csvField(-0.5)).toBe('-0.5'); // numbers are numbers, not text
  });

  it('writes a header and CRLF-terminated rows', () => {
    expect(toCsv(['file', 'p'], [['a.png', 0.5]])).toBe('file,p\r\na.png,0.5\r\n');
  });
});
