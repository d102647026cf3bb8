// Codes of the messages a PostgreSQL server sends (protocol 3.0 to 3.2).

export const enum BackendCode {
  Authentication = 0x52, // R (AuthenticationOk, ...CleartextPassword, ...MD5Password, ...SASL*)
  BackendKeyData = 0x4b, // K
  BindComplete = 0x32, // 2
  CloseComplete = 0x33, // 3
  CommandComplete = 0x43, // C
  CopyBothResponse = 0x57, // W
  CopyData = 0x64, // d
  CopyDone = 0x63, // c
  CopyInResponse = 0x47, // G
  CopyOutResponse = 0x48, // H
  DataRow = 0x44, // D
  EmptyQuery = 0x49, // I (EmptyQueryResponse)
  ErrorResponse = 0x45, // E
  FunctionCallResponse = 0x56, // V
  NegotiateProtocolVersion = 0x76, // v
  NoData = 0x6e, // n
  NoticeResponse = 0x4e, // N
  NotificationResponse = 0x41, // A
  ParameterDescription = 0x74, // t
  ParameterStatus = 0x53, // S
  ParseComplete = 0x31, // 1
  PortalSuspended = 0x73, // s
  ReadyForQuery = 0x5a, // Z
  RowDescription = 0x54, // T
}

/** 1 at the index of every code above: one array load per message in the framer. */
export const KNOWN_BACKEND_CODES = new Uint8Array(256);
for (const code of [
  BackendCode.Authentication, BackendCode.BackendKeyData, BackendCode.BindComplete, BackendCode.CloseComplete,
  BackendCode.CommandComplete, BackendCode.CopyBothResponse, BackendCode.CopyData, BackendCode.CopyDone,
  BackendCode.CopyInResponse, BackendCode.CopyOutResponse, BackendCode.DataRow, BackendCode.EmptyQuery,
  BackendCode.ErrorResponse, BackendCode.FunctionCallResponse, BackendCode.NegotiateProtocolVersion,
  BackendCode.NoData, BackendCode.NoticeResponse, BackendCode.NotificationResponse,
  BackendCode.ParameterDescription, BackendCode.ParameterStatus, BackendCode.ParseComplete,
  BackendCode.PortalSuspended, BackendCode.ReadyForQuery, BackendCode.RowDescription,
]) {
  KNOWN_BACKEND_CODES[code] = 1;
}
