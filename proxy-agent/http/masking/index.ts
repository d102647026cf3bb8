// Masking of HTTP exchanges for the recording: heads (headers, query strings), bodies, and
// streamed bodies. Pure functions over one target's Masker; the HTTP proxy calls them.
export { CREDENTIAL, CREDENTIAL_MARKER } from './field-masker.ts';
export { CREDENTIAL_HEADERS, type Header, maskHeaders, type MaskHeadersOptions } from './headers.ts';
export { maskQuery, maskUrl } from './query.ts';
export { maskBody, type MaskBodyOptions, type MaskedBody } from './body.ts';
export { BodyStreamMasker, type BodyStreamMaskerOptions, MAX_LINE, type StreamKind, streamKind } from './body-stream.ts';
export { bodyKind, type BodyKind, parseMediaType } from './content-type.ts';
