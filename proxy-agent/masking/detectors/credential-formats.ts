// The catalog of credential formats with a fixed prefix or label (see credential-format.ts), one
// file per family under credential-formats/. Order matters only between formats matching the same
// text: the first one names the marker.
import type { CredentialFormat } from './credential-format.ts';
import { CLOUD_FORMATS } from './credential-formats/cloud.ts';
import { CODE_FORMATS } from './credential-formats/code.ts';
import { SERVICE_FORMATS } from './credential-formats/services.ts';

export const CREDENTIAL_FORMATS: readonly CredentialFormat[] = [...CLOUD_FORMATS, ...CODE_FORMATS, ...SERVICE_FORMATS];
