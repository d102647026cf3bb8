// The TLS certificate of the demo API's listener in `vigil dev`: self-signed, for 127.0.0.1,
// localhost and ::1, made once into dataDir and kept (clients trust that file: `curl --cacert
// FILE`), made again only when the one it made has expired or is about to.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

/** The subject of the certificates made here: only those are ever replaced. */
const COMMON_NAME = 'Vigil dev demo API';
const VALID_DAYS = 825;
/** Replaced when it expires within this long. */
const RENEW_BEFORE_MS = 24 * 3_600_000;

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

/** Makes the certificate and its key unless `files.certFile` holds one still valid; true when it made them. */
export async function ensureDemoCertificate(files: CertificateFiles): Promise<boolean> {
  if (!needsNew(files)) return false;
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: COMMON_NAME }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALID_DAYS * 24 * 3_600_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  for (const file of [files.certFile, files.keyFile]) fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(files.keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(files.certFile, pems.cert);
  return true;
}

function needsNew({ certFile, keyFile }: CertificateFiles): boolean {
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(fs.readFileSync(certFile));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    // Someone else's file, or damaged: left alone (the listener says what is wrong with it).
    return false;
  }
  const ours = cert.subject.split('\n').includes(`CN=${COMMON_NAME}`);
  return ours && (!fs.existsSync(keyFile) || new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_MS);
}
