// The demo database's sample data: made-up people with the kinds of personal data and secrets
// Vigil's masking is there for. Every value is fake: e-mails on reserved example domains, phone
// numbers in the 555-01xx fiction range, the payment networks' published test card numbers
// (Luhn-valid), the IBAN registry's example accounts, AWS's documented example key and jwt.io's
// sample token.
import type { PGlite } from '@electric-sql/pglite';

export const DEMO_CUSTOMERS: ReadonlyArray<{
  name: string; email: string; phone: string; ssn: string; card: string; iban: string;
}> = [
  { name: 'Alice Martin', email: 'alice.martin@example.com', phone: '+1 415 555 0132', ssn: '123-45-6789', card: '4111111111111111', iban: 'GB82WEST12345698765432' },
  { name: 'Bruno Keller', email: 'bruno.keller@example.org', phone: '+1 212 555 0147', ssn: '219-09-9999', card: '5555555555554444', iban: 'DE89370400440532013000' },
  { name: 'Chloé Dubois', email: 'chloe.dubois@example.net', phone: '+1 312 555 0118', ssn: '078-05-1120', card: '4012888888881881', iban: 'FR1420041010050500013M02606' },
  { name: 'Dmitri Volkov', email: 'd.volkov@example.com', phone: '+1 617 555 0190', ssn: '234-56-7890', card: '378282246310005', iban: 'NL91ABNA0417164300' },
  { name: 'Emma Johansson', email: 'emma.j@example.org', phone: '+1 206 555 0173', ssn: '345-67-8901', card: '6011111111111117', iban: 'SE4550000000058398257466' },
  { name: 'Farid Haddad', email: 'farid.haddad@example.com', phone: '+1 305 555 0125', ssn: '456-78-9012', card: '5105105105105100', iban: 'ES9121000418450200051332' },
  { name: 'Grace Okafor', email: 'grace.okafor@example.net', phone: '+1 404 555 0166', ssn: '567-89-0123', card: '4242424242424242', iban: 'IT60X0542811101000000123456' },
  { name: 'Hiro Tanaka', email: 'hiro.tanaka@example.com', phone: '+1 503 555 0109', ssn: '321-54-9876', card: '3530111333300000', iban: 'BE68539007547034' },
  { name: 'Isabel Costa', email: 'isabel.costa@example.org', phone: '+1 702 555 0154', ssn: '432-65-1098', card: '5200828282828210', iban: 'CH9300762011623852957' },
  { name: 'Jonas Weber', email: 'jonas.weber@example.com', phone: '+1 720 555 0181', ssn: '543-76-2109', card: '371449635398431', iban: 'AT611904300234573201' },
  { name: 'Keiko Sato', email: 'keiko.sato@example.net', phone: '+1 808 555 0137', ssn: '654-87-3210', card: '6011000990139424', iban: 'GB33BUKB20201555555555' },
  { name: 'Liam Murphy', email: 'liam.murphy@example.com', phone: '+1 617 555 0102', ssn: '765-98-4321', card: '30569309025904', iban: 'IE29AIBK93115212345678' },
  { name: 'Maria Rossi', email: 'maria.rossi@example.org', phone: '+1 415 555 0199', ssn: '876-09-5432', card: '4000056655665556', iban: 'DK5000400440116243' },
  { name: 'Noah Schmidt', email: 'noah.schmidt@example.com', phone: '+1 312 555 0161', ssn: '198-76-5432', card: '2223003122003222', iban: 'FI2112345600000785' },
  { name: 'Olivia Brown', email: 'olivia.brown@example.net', phone: '+1 212 555 0144', ssn: '287-65-4321', card: '5454545454545454', iban: 'NO9386011117947' },
  { name: 'Pedro Alvarez', email: 'pedro.alvarez@example.com', phone: '+1 305 555 0128', ssn: '376-54-3210', card: '4000000000000077', iban: 'PL61109010140000071219812874' },
  { name: 'Quinn Taylor', email: 'quinn.taylor@example.org', phone: '+1 206 555 0115', ssn: '465-43-2109', card: '6011601160116611', iban: 'PT50000201231234567890154' },
  { name: 'Rania Aziz', email: 'rania.aziz@example.com', phone: '+1 404 555 0170', ssn: '554-32-1098', card: '3566002020360505', iban: 'LU280019400644750000' },
  { name: 'Sven Lindqvist', email: 'sven.l@example.net', phone: '+1 503 555 0193', ssn: '643-21-0987', card: '4000002500003155', iban: 'GR1601101250000000012300695' },
  { name: 'Tara Singh', email: 'tara.singh@example.com', phone: '+1 720 555 0106', ssn: '732-10-9876', card: '6200000000000005', iban: 'CZ6508000000192000145399' },
];

const DEMO_ITEMS = ['Laptop stand', 'USB-C hub', 'Noise-cancelling headphones', 'Mechanical keyboard', 'Monitor arm', 'Webcam', 'Desk lamp', 'Ergonomic mouse'];
const DEMO_STATUSES = ['shipped', 'delivered', 'pending', 'refunded'];

/** Fake secrets: a JWT-shaped bearer token, AWS's documented example key pair, a DSN with a password. */
export const DEMO_CREDENTIALS: ReadonlyArray<{ service: string; token: string; password: string }> = [
  { service: 'billing-api', token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', password: 'correct-horse-battery-staple' },
  { service: 'aws-backup', token: 'AKIAIOSFODNN7EXAMPLE', password: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  { service: 'reporting-db', token: 'postgresql://report:Rep0rt-S3cret@db.internal.example:5432/reports', password: 'Rep0rt-S3cret' },
  { service: 'webhooks', token: 'Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0', password: 'hunter2' },
];

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

function seedScript(): string {
  const customers = DEMO_CUSTOMERS.map((c, i) =>
    `(${[c.name, c.email, c.phone, c.ssn, c.card, c.iban].map(quote).join(', ')}, ` +
    `timestamptz '2024-01-01 09:00:00+00' + interval '${i * 3} days ${i} hours')`).join(',\n  ');
  const orders = Array.from({ length: 40 }, (_, i) => {
    const customer = (i * 7) % DEMO_CUSTOMERS.length + 1;
    const cents = 1999 + ((i * 3517) % 25000);
    const address = `${100 + i * 13} Example Street, Springfield`;
    return `(${customer}, ${quote(DEMO_ITEMS[i % DEMO_ITEMS.length])}, ${(cents / 100).toFixed(2)}, ` +
      `${quote(DEMO_STATUSES[i % DEMO_STATUSES.length])}, ${quote(address)}, ` +
      `timestamptz '2024-03-01 12:00:00+00' + interval '${i * 2} days ${i * 5} minutes')`;
  }).join(',\n  ');
  const credentials = DEMO_CREDENTIALS.map((c) => `(${quote(c.service)}, ${quote(c.token)}, ${quote(c.password)})`).join(',\n  ');
  return `
BEGIN;
CREATE TABLE customers (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  phone text,
  ssn text,
  card_number text,
  iban text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers(id),
  item text NOT NULL,
  amount numeric(10, 2) NOT NULL,
  status text NOT NULL,
  shipping_address text,
  ordered_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE api_credentials (
  id serial PRIMARY KEY,
  service text NOT NULL,
  token text NOT NULL,
  password text NOT NULL
);
INSERT INTO customers (name, email, phone, ssn, card_number, iban, created_at) VALUES
  ${customers};
INSERT INTO orders (customer_id, item, amount, status, shipping_address, ordered_at) VALUES
  ${orders};
INSERT INTO api_credentials (service, token, password) VALUES
  ${credentials};
COMMIT;`;
}

/** Creates and fills the sample tables unless a previous run already did (the data persists). */
export async function seedDemoData(db: PGlite): Promise<{ seeded: boolean }> {
  const { rows } = await db.query<{ present: boolean }>(`SELECT to_regclass('public.customers') IS NOT NULL AS present`);
  if (rows[0]?.present) return { seeded: false };
  await db.exec(seedScript());
  return { seeded: true };
}
