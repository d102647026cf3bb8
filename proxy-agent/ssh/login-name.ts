// The SSH user name picks the target: `web-1` (the person is the one the token names) or
// `alice+web-1` (then the token must name alice).
export interface LoginName {
  target: string;
  user?: string;
}

export function parseLoginName(name: string): LoginName {
  const plus = name.lastIndexOf('+');
  if (plus <= 0) return { target: name };
  return { user: name.slice(0, plus), target: name.slice(plus + 1) };
}
