import { describe, expect, it } from 'vitest';
import { defaultMasker, SAMPLE } from '../../masking/test-support.ts';
import { maskBody } from './body.ts';
import { parseMultipart } from './multipart-parser.ts';

const masker = defaultMasker();
const B = '----vigil7MA4YWxkTrZu0gW';
const TYPE = `multipart/form-data; boundary=${B}`;
const FILE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x41, 0x4b, 0x49, 0x41]);
const PASSWORD = 'Hunter2-Secret';

function form(eol = '\r\n'): Buffer {
  const text = (s: string) => Buffer.from(s, 'utf8');
  return Buffer.concat([
    text(`--${B}${eol}Content-Disposition: form-data; name="user"${eol}${eol}alice.smith@example.com${eol}`),
    text(`--${B}${eol}Content-Disposition: form-data; name="password"${eol}${eol}${PASSWORD}${eol}`),
    text(`--${B}${eol}Content-Disposition: form-data; name="avatar"; filename="me.png"${eol}Content-Type: image/png${eol}${eol}`),
    FILE,
    text(`${eol}--${B}${eol}Content-Disposition: form-data; name="meta"${eol}Content-Type: application/json${eol}${eol}{"token":"t0k","n":1}${eol}`),
    text(`--${B}${eol}Content-Disposition: form-data; name="note"${eol}${eol}token ${SAMPLE.jwt}${eol}`),
    text(`--${B}--${eol}`),
  ]);
}

const EXPECTED = [
  `--${B}`, 'Content-Disposition: form-data; name="user"', '', '[EMAIL]',
  `--${B}`, 'Content-Disposition: form-data; name="password"', '', '[SECRET_COLUMN]',
  `--${B}`, 'Content-Disposition: form-data; name="avatar"; filename="me.png"', 'Content-Type: image/png', '', '[file me.png, 10 bytes, image/png]',
  `--${B}`, 'Content-Disposition: form-data; name="meta"', 'Content-Type: application/json', '', '{"token":"[SECRET_COLUMN]","n":1}',
  `--${B}`, 'Content-Disposition: form-data; name="note"', '', 'token [JWT]',
  `--${B}--`, '',
].join('\r\n');

describe('multipart bodies', () => {
  it('when a form has fields and a file, then fields are masked by name and detectors and the file is its description', () => {
    expect(maskBody(TYPE, form(), { masker, complete: true })).toEqual({ text: EXPECTED, counts: { EMAIL: 1, SECRET_COLUMN: 2, JWT: 1 } });
  });

  it('when a lenient client breaks lines with LF only, then it is read the same', () => {
    expect(maskBody(TYPE, form('\n'), { masker, complete: true }).text).toBe(EXPECTED);
  });

  it('when the body is cut at any byte, then neither the secret field nor the file content shows', () => {
    const body = form();
    for (let at = 0; at <= body.length; at++) {
      const r = maskBody(TYPE, body.subarray(0, at), { masker, complete: false });
      const out = r.text ?? '';
      for (let n = 4; n <= PASSWORD.length; n++) expect(out, `cut at ${at}`).not.toContain(PASSWORD.slice(0, n));
      expect(out).not.toContain('PNG');
      expect(out).not.toContain('t0k');
      expect(out).not.toContain('alice.smith@example.com');
    }
  });

  it('when a file name holds a secret or the name is given RFC 5987-style, then the description shows it masked or decoded', () => {
    const body = Buffer.from([
      `--${B}`, 'Content-Disposition: form-data; name="f"; filename="alice.smith@example.com.pdf"', '', '%PDF-1.7',
      `--${B}`, "Content-Disposition: form-data; name=\"g\"; filename*=UTF-8''na%C3%AFve.txt", 'Content-Type: text/plain', '', 'text',
      `--${B}--`, '',
    ].join('\r\n'));
    const r = maskBody(TYPE, body, { masker, complete: true });
    expect(r.text).toContain('[file [EMAIL], 8 bytes]');
    expect(r.text).toContain('[file naïve.txt, 4 bytes, text/plain]');
    expect(r.text).not.toContain('alice.smith');
  });

  it('when a field part is binary, then it is its size and type', () => {
    const body = Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="blob"\r\nContent-Type: application/octet-stream\r\n\r\n`), FILE, Buffer.from(`\r\n--${B}--\r\n`)]);
    expect(maskBody(TYPE, body, { masker, complete: true }).text).toContain('[binary, 10 bytes, application/octet-stream]');
  });

  it('when the boundary is missing or not in the body, then the body is judged by its bytes', () => {
    expect(maskBody('multipart/form-data', Buffer.from('alice.smith@example.com'), { masker, complete: true }).text).toBe('[EMAIL]');
    expect(maskBody(TYPE, FILE, { masker, complete: true })).toEqual({ binary: true, counts: null });
  });

  it('when a form is harmless, then its text is the same', () => {
    const text = `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${B}\r\nContent-Disposition: form-data; name="empty_password"\r\n\r\n\r\n--${B}--\r\n`;
    expect(maskBody(TYPE, Buffer.from(text), { masker, complete: true })).toEqual({ text, counts: null });
  });

  it('when the parser reads a body, then preamble, parts and epilogue are where they were', () => {
    const parsed = parseMultipart(Buffer.from(`pre\r\n--${B}\r\nX: 1\r\n\r\nbody\r\n--${B}--\r\nepi`), B);
    expect(parsed?.preamble.toString()).toBe('pre');
    expect(parsed?.parts.map((p) => [p.headers, p.body.toString(), p.complete])).toEqual([[[['X', '1']], 'body', true]]);
    expect(parsed?.closed).toBe(true);
    expect(parsed?.epilogue.toString()).toBe('epi');
  });
});
