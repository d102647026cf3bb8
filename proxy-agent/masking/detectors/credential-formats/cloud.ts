// Cloud providers and infrastructure platforms: their access keys, API tokens and the secrets of
// their connection strings.
import type { CredentialFormat } from '../credential-format.ts';
import { labelled } from './labelled.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

export const CLOUD_FORMATS: readonly CredentialFormat[] = [
  // Key ids of long-term users (AKIA), STS sessions (ASIA), and the rarer kinds.
  { name: 'AWS_ACCESS_KEY', prefixes: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'A3T'], pattern: /(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])/y },
  // AWS secret access keys have no prefix: only a label makes 40 base64 characters one.
  {
    name: 'AWS_SECRET_KEY',
    prefixes: ['aws', 'secret'],
    ignoreCase: true,
    pattern: /(?:aws_?)?secret_?(?:access_?)?key["']?\s{0,8}[:=]\s{0,8}["']?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/iy,
  },
  // STS session tokens: after their label (env, credentials file, `aws sts` JSON, the HTTP
  // header), or alone by the base64 of their first fields, which every token of a version shares.
  {
    name: 'AWS_SESSION_TOKEN',
    prefixes: ['aws', 'sessiontoken', 'x-amz-security-token'],
    ignoreCase: true,
    pattern: labelled('aws_?session_?token|sessiontoken|x-amz-security-token', '[A-Za-z0-9/+=]{100,4096}', '(?![A-Za-z0-9/+=])'),
  },
  { name: 'AWS_SESSION_TOKEN', prefixes: ['IQoJb3JpZ2luX2Vj', 'FwoGZXIvYXdzE'], pattern: /(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9/+=]{100,4096}(?![A-Za-z0-9/+=])/y },

  { name: 'GOOGLE_API_KEY', prefixes: ['AIza'], pattern: /AIza[\w-]{35}(?![\w-])/y },
  { name: 'GOOGLE_OAUTH_SECRET', prefixes: ['GOCSPX-'], pattern: /GOCSPX-[\w-]{28}(?![\w-])/y },
  // Access tokens (ya29.) and refresh tokens (1//0); an access token may carry one dotted part.
  { name: 'GOOGLE_OAUTH_TOKEN', prefixes: ['ya29.'], pattern: /ya29\.[\w-]{30,2048}(?:\.[\w-]{1,512})?(?![\w-])/y },
  { name: 'GOOGLE_OAUTH_TOKEN', prefixes: ['1//0'], pattern: /1\/\/0[\w-]{30,512}(?![\w-])/y },
  // A service-account key file names its key by this id; the key itself is a PEM (PRIVATE_KEY).
  // JSON printed inside a JSON string escapes its quotes.
  {
    name: 'GCP_PRIVATE_KEY_ID',
    prefixes: ['private_key_id'],
    pattern: /private_key_id\\?"[ \t]{0,8}:[ \t]{0,8}\\?"(?<secret>[a-f0-9]{40})(?=\\?")/y,
  },

  // Azure connection strings: storage accounts (64-byte keys), Service Bus / Event Hubs (32-byte).
  { name: 'AZURE_STORAGE_KEY', prefixes: ['AccountKey='], ignoreCase: true, pattern: /AccountKey=(?<secret>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])/iy },
  { name: 'AZURE_SHARED_ACCESS_KEY', prefixes: ['SharedAccessKey='], ignoreCase: true, pattern: /SharedAccessKey=(?<secret>[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])/iy },
  // A SAS URL's signature: `sig` in a query that also has the SAS version (sv) or permissions (sp),
  // before or after it. Parameter values stop at '=' so a run of "sig=sig=..." fails at once.
  {
    name: 'AZURE_SAS_TOKEN',
    prefixes: ['sig='],
    pattern: /(?:(?<=[?&]s[vp]=[^\s&#"'<>=]{1,256}&(?:[\w-]{1,32}=[^\s&#"'<>=]{0,256}={0,2}&){0,16})|(?=sig=[^\s&#"'<>=]{1,256}={0,2}(?:&[\w-]{1,32}=[^\s&#"'<>=]{0,256}={0,2}){0,16}&s[vp]=))sig=(?<secret>(?:[A-Za-z0-9+/]|%[0-9A-Fa-f]{2}){40,128}={0,2})(?![A-Za-z0-9+/=%])/y,
  },

  { name: 'ALIBABA_ACCESS_KEY', prefixes: ['LTAI'], pattern: /LTAI[A-Za-z0-9]{12,20}(?![A-Za-z0-9])/y },
  { name: 'TENCENT_SECRET_ID', prefixes: ['AKID'], pattern: /AKID[A-Za-z0-9]{32}(?![A-Za-z0-9])/y },
  { name: 'DIGITALOCEAN_TOKEN', prefixes: ['dop_v1_', 'doo_v1_', 'dor_v1_'], pattern: /do[por]_v1_[a-f0-9]{64}(?![A-Za-z0-9])/y },
  // Since 2024 Heroku keys carry a prefix; the older ones are bare UUIDs, a secret only by their label.
  { name: 'HEROKU_API_KEY', prefixes: ['HRKU-AA'], pattern: /HRKU-AA[\w-]{58}(?![\w-])/y },
  { name: 'HEROKU_API_KEY', prefixes: ['heroku'], ignoreCase: true, pattern: labelled('heroku[\\w.-]{0,24}(?:key|token|secret)', UUID, '(?![\\w-])') },
  // API tokens (40) and the global API key (37 hex) only by label; Origin CA keys by their shape.
  {
    name: 'CLOUDFLARE_API_KEY',
    prefixes: ['cloudflare', 'cf_api', 'cf-api'],
    ignoreCase: true,
    pattern: labelled('(?:cloudflare|cf)[_-]?api[_-]?(?:token|key)', '[\\w-]{40}|[a-f0-9]{37}', '(?![\\w-])'),
  },
  { name: 'CLOUDFLARE_API_KEY', prefixes: ['v1.0-'], pattern: /v1\.0-[a-f0-9]{24}-[a-f0-9]{146}(?![A-Za-z0-9])/y },
  // Vault service, batch and recovery tokens; before Vault 1.10 a token was "s." + 24, only
  // recognisable after a Vault label.
  { name: 'VAULT_TOKEN', prefixes: ['hvs.', 'hvb.', 'hvr.'], pattern: /hv[sbr]\.[\w-]{24,512}(?![\w-])/y },
  { name: 'VAULT_TOKEN', prefixes: ['vault', 'x-vault-token'], ignoreCase: true, pattern: labelled('vault[_-]?token|x-vault-token', '[sb]\\.[A-Za-z0-9]{24}', '(?![A-Za-z0-9])') },
  // Terraform Cloud tokens (14 characters, ".atlasv1.", 60-70) start with no fixed text; the CLI
  // reads them from TF_TOKEN_<host> variables.
  { name: 'TERRAFORM_CLOUD_TOKEN', prefixes: ['TF_TOKEN_'], pattern: /TF_TOKEN_[\w-]{1,128}=(?<secret>[\w.-]{20,256})(?![\w.-])/y },
  { name: 'DATABRICKS_TOKEN', prefixes: ['dapi'], pattern: /dapi[a-f0-9]{32}(?:-\d{1,2})?(?![A-Za-z0-9])/y },
  // Personal, service (with the config's name), service-account, CLI, SCIM and audit tokens.
  {
    name: 'DOPPLER_TOKEN',
    prefixes: ['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'],
    pattern: /dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{1,32}\.)?[A-Za-z0-9]{40,44}(?![A-Za-z0-9])/y,
  },
  { name: 'PULUMI_TOKEN', prefixes: ['pul-'], pattern: /pul-[a-f0-9]{40}(?![A-Za-z0-9])/y },
  // Fly.io macaroons, as `fly tokens create` prints them (several are joined by commas).
  { name: 'FLY_IO_TOKEN', prefixes: ['FlyV1 '], pattern: /FlyV1 (?<secret>fm\d[a-z]?_[\w+/=,-]{40,4096})(?![\w+/=,-])/y },
  { name: 'SUPABASE_TOKEN', prefixes: ['sbp_'], pattern: /sbp_[a-f0-9]{40}(?![A-Za-z0-9])/y },
  { name: 'SUPABASE_TOKEN', prefixes: ['sb_secret_'], pattern: /sb_secret_[\w-]{20,64}(?![\w-])/y },
  { name: 'PLANETSCALE_TOKEN', prefixes: ['pscale_pw_', 'pscale_tkn_', 'pscale_oauth_'], pattern: /pscale_(?:pw|tkn|oauth)_[\w-]{32,64}(?![\w-])/y },
  { name: 'NETLIFY_TOKEN', prefixes: ['nfp_'], pattern: /nfp_[A-Za-z0-9]{36}(?![A-Za-z0-9])/y },
  { name: 'RENDER_API_KEY', prefixes: ['rnd_'], pattern: /rnd_[A-Za-z0-9]{32}(?![A-Za-z0-9])/y },
  { name: 'TAILSCALE_KEY', prefixes: ['tskey-'], pattern: /tskey-(?:auth|api|client|webhook|scim)-[A-Za-z0-9]{8,24}-[A-Za-z0-9]{20,64}(?![A-Za-z0-9])/y },
  // age identities are Bech32: upper case, without 1, B, I and O after the separator.
  { name: 'AGE_SECRET_KEY', prefixes: ['AGE-SECRET-KEY-1'], pattern: /AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}(?![A-Za-z0-9])/y },
  // 1Password service-account tokens: "ops_" and base64 JSON.
  { name: 'ONEPASSWORD_TOKEN', prefixes: ['ops_eyJ'], pattern: /ops_eyJ[\w+/=-]{100,2048}(?![\w+/=-])/y },
];
