// Online services: messaging, e-mail, payments, commerce, maps, storage and AI model APIs.
import type { CredentialFormat } from '../credential-format.ts';
import { labelled } from './labelled.ts';

export const SERVICE_FORMATS: readonly CredentialFormat[] = [
  { name: 'SLACK_TOKEN', prefixes: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxr-'], pattern: /xox[abpr]-[A-Za-z0-9-]{10,255}/y },
  // Refresh and configuration tokens (xoxe), legacy workspace tokens (xoxs), app-level tokens.
  { name: 'SLACK_TOKEN', prefixes: ['xoxe.', 'xoxe-', 'xoxs-', 'xapp-'], pattern: /(?:xoxe\.xox[bp]|xoxe|xoxs|xapp)-[A-Za-z0-9-]{10,255}(?![A-Za-z0-9-])/y },
  // Incoming webhooks: the workspace and channel ids stay readable, the last part is the secret.
  {
    name: 'SLACK_WEBHOOK',
    prefixes: ['hooks.slack.com/'],
    pattern: /hooks\.slack\.com\/(?:services|workflows|triggers)\/T[A-Z0-9]{8,12}\/(?:[A-Za-z0-9]{8,24}\/){1,2}(?<secret>[A-Za-z0-9]{24,40})(?![A-Za-z0-9])/y,
  },
  // Bot tokens start with the bot's id in base64: a 17-20 digit number, so "MT".."OT".
  {
    name: 'DISCORD_BOT_TOKEN',
    prefixes: ['MT', 'Mj', 'Mz', 'ND', 'NT', 'Nj', 'Nz', 'OD', 'OT'],
    pattern: /(?:M[Tjz]|N[DTjz]|O[DT])[A-Za-z0-9]{21,25}\.[\w-]{6}\.[\w-]{27,38}(?![\w-])/y,
  },
  {
    name: 'DISCORD_WEBHOOK',
    prefixes: ['discord.com/api/', 'discordapp.com/api/'],
    pattern: /discord(?:app)?\.com\/api\/(?:v\d{1,2}\/)?webhooks\/\d{17,20}\/(?<secret>[\w-]{60,80})(?![\w-])/y,
  },
  // <bot id>:AA<33>: the id stays readable. The "AA" starts a token of its own after the colon.
  { name: 'TELEGRAM_BOT_TOKEN', prefixes: ['AA'], pattern: /(?<=(?<![0-9])[0-9]{8,10}:)AA[\w-]{33}(?![\w-])/y },
  // Legacy FCM server keys: "AAAA" + 7, ":APA91b" + the key.
  { name: 'FIREBASE_FCM_KEY', prefixes: ['AAAA'], pattern: /AAAA[\w-]{7}:APA91b[\w-]{120,200}(?![\w-])/y },

  // API key SIDs (SK); account SIDs (AC) are identifiers, not secrets.
  { name: 'TWILIO_API_KEY', prefixes: ['SK'], pattern: /SK[0-9a-f]{32}(?![A-Za-z0-9])/y },
  { name: 'SENDGRID_API_KEY', prefixes: ['SG.'], pattern: /SG\.[\w-]{22}\.[\w-]{43}(?![\w-])/y },
  // Mailgun and Mailchimp keys are hex without a prefix (Mailchimp's data-centre suffix is at the end,
  // which a prefix cannot anchor): only a label names them.
  {
    name: 'MAILGUN_API_KEY',
    prefixes: ['mailgun'],
    ignoreCase: true,
    pattern: labelled('mailgun[\\w.-]{0,24}(?:key|token|secret)', '(?:key-)?[a-f0-9]{32}(?:-[a-f0-9]{8}-[a-f0-9]{8})?', '(?![A-Za-z0-9])'),
  },
  {
    name: 'MAILCHIMP_API_KEY',
    prefixes: ['mailchimp'],
    ignoreCase: true,
    pattern: labelled('mailchimp[\\w.-]{0,24}(?:key|token)', '[a-f0-9]{32}-us\\d{1,2}', '(?![A-Za-z0-9])'),
  },
  { name: 'BREVO_API_KEY', prefixes: ['xkeysib-'], pattern: /xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}(?![A-Za-z0-9])/y },

  { name: 'STRIPE_KEY', prefixes: ['sk_live_', 'rk_live_'], pattern: /[sr]k_live_[A-Za-z0-9]{16,255}(?![A-Za-z0-9])/y },
  // Test-mode keys are masked too: they read and write the account's test data and its webhook
  // settings, and a recording loses nothing by not showing them.
  { name: 'STRIPE_KEY', prefixes: ['sk_test_', 'rk_test_'], pattern: /[sr]k_test_[A-Za-z0-9]{16,255}(?![A-Za-z0-9])/y },
  // Webhook signing secrets (Stripe, and Svix-based senders).
  { name: 'WEBHOOK_SECRET', prefixes: ['whsec_'], pattern: /whsec_[A-Za-z0-9+/]{24,88}={0,2}(?![A-Za-z0-9+/=])/y },
  { name: 'SQUARE_TOKEN', prefixes: ['sq0atp-', 'sq0csp-'], pattern: /sq0(?:atp|csp)-[\w-]{22,43}(?![\w-])/y },
  { name: 'SQUARE_TOKEN', prefixes: ['EAAA'], pattern: /EAAA[\w-]{60}(?![\w-])/y },
  // Facebook Graph tokens are longer than Square's EAAA tokens and plain alphanumeric.
  { name: 'FACEBOOK_ACCESS_TOKEN', prefixes: ['EAA'], pattern: /EAA[A-Za-z0-9]{90,400}(?![A-Za-z0-9])/y },
  { name: 'BRAINTREE_TOKEN', prefixes: ['access_token$'], pattern: /access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}(?![A-Za-z0-9])/y },
  // Admin API, custom app, private app tokens and shared secrets.
  { name: 'SHOPIFY_TOKEN', prefixes: ['shpat_', 'shpca_', 'shppa_', 'shpss_'], pattern: /shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9])/y },

  // Short-lived access tokens; their body stops at '.', so "sl.sl.sl..." fails at once.
  { name: 'DROPBOX_TOKEN', prefixes: ['sl.'], pattern: /sl\.(?:u\.)?[\w-]{130,1500}(?![\w-])/y },
  // Secret tokens (sk.) only: public ones (pk.) are meant to be shipped.
  { name: 'MAPBOX_SECRET_TOKEN', prefixes: ['sk.eyJ'], pattern: /sk\.eyJ[\w-]{20,400}\.[\w-]{20,64}(?![\w-])/y },
  { name: 'ADAFRUIT_IO_KEY', prefixes: ['aio_'], pattern: /aio_[A-Za-z0-9]{28}(?![A-Za-z0-9])/y },

  // Project, service-account and admin keys; legacy keys hold "T3BlbkFJ" (base64 of "OpenAI").
  { name: 'OPENAI_API_KEY', prefixes: ['sk-proj-', 'sk-svcacct-', 'sk-admin-'], pattern: /sk-(?:proj|svcacct|admin)-[\w-]{40,250}(?![\w-])/y },
  { name: 'OPENAI_API_KEY', prefixes: ['sk-'], pattern: /sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}(?![A-Za-z0-9])/y },
  // API (api03), admin (admin01) and OAuth (oat01) keys.
  { name: 'ANTHROPIC_API_KEY', prefixes: ['sk-ant-'], pattern: /sk-ant-[a-z]{3,5}\d{2}-[\w-]{80,120}(?![\w-])/y },
  { name: 'HUGGINGFACE_TOKEN', prefixes: ['hf_', 'api_org_'], pattern: /(?:hf|api_org)_[A-Za-z0-9]{34}(?![A-Za-z0-9])/y },
  { name: 'REPLICATE_API_TOKEN', prefixes: ['r8_'], pattern: /r8_[A-Za-z0-9]{37}(?![A-Za-z0-9])/y },
  { name: 'GROQ_API_KEY', prefixes: ['gsk_'], pattern: /gsk_[A-Za-z0-9]{52}(?![A-Za-z0-9])/y },
  { name: 'PERPLEXITY_API_KEY', prefixes: ['pplx-'], pattern: /pplx-[A-Za-z0-9]{48}(?![A-Za-z0-9])/y },
  { name: 'XAI_API_KEY', prefixes: ['xai-'], pattern: /xai-[A-Za-z0-9]{80}(?![A-Za-z0-9])/y },
  { name: 'LANGSMITH_API_KEY', prefixes: ['lsv2_pt_', 'lsv2_sk_'], pattern: /lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}(?![A-Za-z0-9])/y },
];
