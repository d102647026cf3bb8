import { describe, expect, it } from 'vitest';
import { maskCopyFields } from './copy-fields.ts';
import type { CopySpec } from './secret-values.ts';

const M = '[SECRET_COLUMN]';

const text = (secretFields: boolean[] | null, extra: Partial<CopySpec> = {}): CopySpec => ({
  direction: 'in',
  format: 'text',
  delimiter: '\t',
  quote: '"',
  escape: '"',
  header: false,
  secretFields,
  ...extra,
});

const csv = (secretFields: boolean[] | null, extra: Partial<CopySpec> = {}): CopySpec =>
  text(secretFields, { format: 'csv', delimiter: ',', ...extra });

describe('maskCopyFields, text format', () => {
  it('when a row has a secret field, then that field is masked', () => {
    expect(maskCopyFields('1\tbob\thunter2\n2\tann\tpw\n', text([false, false, true]))).toEqual({
      text: `1\tbob\t${M}\n2\tann\t${M}\n`,
      count: 2,
    });
  });

  it('when a field holds escaped tabs and backslashes, then they stay inside the field', () => {
    const content = 'a\\tb\tc\\\\\td\\\te\n';
    expect(maskCopyFields(content, text([true, false, true]))).toEqual({ text: `${M}\tc\\\\\t${M}\n`, count: 2 });
  });

  it('when a field is \\N, then it stays NULL', () => {
    expect(maskCopyFields('1\t\\N\n2\tx\n', text([false, true]))).toEqual({ text: `1\t\\N\n2\t${M}\n`, count: 1 });
  });

  it('when the NULL option is set, then that string is the NULL', () => {
    expect(maskCopyFields('1\tnil\n2\t\\N\n', text([false, true], { nullString: 'nil' }))).toEqual({ text: `1\tnil\n2\t${M}\n`, count: 1 });
  });

  it('when the delimiter is custom, then it splits the fields', () => {
    expect(maskCopyFields('1|pw|x\\|y\n', text([false, true, true], { delimiter: '|' }))).toEqual({ text: `1|${M}|${M}\n`, count: 2 });
  });

  it('when the data ends with \\., then the end marker line is kept', () => {
    expect(maskCopyFields('pw\n\\.\n', text([true]))).toEqual({ text: `${M}\n\\.\n`, count: 1 });
  });

  it('when there is a header, then the first line is kept', () => {
    expect(maskCopyFields('id\tpassword\n1\tpw\n', text([false, true], { header: true }))).toEqual({ text: `id\tpassword\n1\t${M}\n`, count: 1 });
  });

  it('when the columns are unknown, then every non-NULL field is masked', () => {
    expect(maskCopyFields('1\t\\N\tx\n', text(null))).toEqual({ text: `${M}\t\\N\t${M}\n`, count: 2 });
  });

  it('when the last line has no newline, then it is a row too', () => {
    expect(maskCopyFields('1\tpw\n2\tpw2', text([false, true]))).toEqual({ text: `1\t${M}\n2\t${M}`, count: 2 });
  });

  it('when lines end with CRLF, then the line end is kept', () => {
    expect(maskCopyFields('1\tpw\r\n2\tq\r\n', text([false, true]))).toEqual({ text: `1\t${M}\r\n2\t${M}\r\n`, count: 2 });
  });

  it('when a row has more fields than known columns, then the extra fields are masked', () => {
    expect(maskCopyFields('1\tx\ty\n', text([false]))).toEqual({ text: `1\t${M}\t${M}\n`, count: 2 });
  });

  it('when no field is secret, then the same text comes back', () => {
    const content = '1\tbob\n';
    expect(maskCopyFields(content, text([false, false]))).toEqual({ text: content, count: 0 });
  });
});

describe('maskCopyFields, CSV format', () => {
  it('when a quoted field holds the delimiter, then it is one field', () => {
    expect(maskCopyFields('1,"a,b",x\n', csv([false, true, false]))).toEqual({ text: `1,${M},x\n`, count: 1 });
  });

  it('when a quoted field holds doubled quotes, then it is one field', () => {
    expect(maskCopyFields('"say ""hi"", ok",2\n', csv([true, false]))).toEqual({ text: `${M},2\n`, count: 1 });
  });

  it('when a quoted field holds newlines, then the row goes on', () => {
    expect(maskCopyFields('1,"line1\nline2\r\nline3",x\n2,p,y\n', csv([false, true, false]))).toEqual({
      text: `1,${M},x\n2,${M},y\n`,
      count: 2,
    });
  });

  it('when the escape differs from the quote, then it escapes quotes inside quotes', () => {
    expect(maskCopyFields(`'it\\'s, here',1\n`, csv([true, false], { quote: "'", escape: '\\' }))).toEqual({ text: `${M},1\n`, count: 1 });
  });

  it('when a field is empty and unquoted, then it is NULL; quoted empty is a value', () => {
    expect(maskCopyFields('1,,""\n', csv([false, true, true]))).toEqual({ text: `1,,${M}\n`, count: 1 });
  });

  it('when there is a header, then the first line is kept even with quoted newlines', () => {
    expect(maskCopyFields('id,"pass\nword"\n1,pw\n', csv([false, true], { header: true }))).toEqual({ text: `id,"pass\nword"\n1,${M}\n`, count: 1 });
  });

  it('when the delimiter is custom, then it splits the fields', () => {
    expect(maskCopyFields('1;pw;"a;b"\n', csv([false, true, true], { delimiter: ';' }))).toEqual({ text: `1;${M};${M}\n`, count: 2 });
  });

  it('when the data ends with \\., then the end marker line is kept', () => {
    expect(maskCopyFields('pw\n\\.\n', csv([true]))).toEqual({ text: `${M}\n\\.\n`, count: 1 });
  });

  it('when the columns are unknown, then every non-NULL field is masked', () => {
    expect(maskCopyFields('1,,x\n', csv(null))).toEqual({ text: `${M},,${M}\n`, count: 2 });
  });

  it('when the last line has no newline, even inside an open quote, then it is a row too', () => {
    expect(maskCopyFields('1,pw\n2,"open', csv([false, true]))).toEqual({ text: `1,${M}\n2,${M}`, count: 2 });
  });
});

describe('maskCopyFields, binary format', () => {
  it('when the format is binary, then the content is unchanged', () => {
    expect(maskCopyFields('PGCOPY\n\xff\r\n\0', text([true], { format: 'binary' }))).toEqual({ text: 'PGCOPY\n\xff\r\n\0', count: 0 });
  });
});

describe('maskCopyFields with fields placed by the catalog', () => {
  it('when a row has fewer fields than the catalog has columns (a generated column left out), then the whole row is masked', () => {
    const spec: CopySpec = { direction: 'in', format: 'text', delimiter: '\t', quote: '"', escape: '"', header: false, secretFields: [false, false, true], fromCatalog: true };
    expect(maskCopyFields('1\tbob\tpw1\n2\thunter2\n', spec)).toEqual({ text: '1\tbob\t[SECRET_COLUMN]\n[SECRET_COLUMN]\t[SECRET_COLUMN]\n', count: 3 });
  });
});
