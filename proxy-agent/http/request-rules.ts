// Guardrails of an HTTP target: a rule names methods and a path pattern (`DELETE /admin/**`).
// The path is matched as the target will read it: percent-decoded once, dot segments resolved,
// repeated slashes folded, so `/admin/../admin/x`, `//admin/x` and `/%61dmin/x` are all `/admin/x`.
// A path that cannot be read that way (bad escapes, an encoded slash or NUL) is refused outright:
// the agent cannot say which rule it falls under. Rules are read in order; the first match decides.
import picomatch from 'picomatch';
import { REQUEST_PATTERN, type Guardrail } from '../../common/guardrails.ts';

export interface RequestDecision {
  action: 'allow' | 'deny' | 'approve';
  rule: string;
  message?: string;
  /** The request as the rule read it: `METHOD /normalised/path`. */
  request: string;
}

interface CompiledRule {
  name: string;
  methods: Set<string> | null;
  matches: (path: string) => boolean;
  action: RequestDecision['action'];
  message?: string;
}

export class RequestRules {
  private readonly rules: CompiledRule[];

  constructor(guardrails: readonly Guardrail[]) {
    this.rules = guardrails.filter((g) => g.request).map((g) => {
      const [, methods, , pattern] = REQUEST_PATTERN.exec(g.request!)!;
      return {
        name: g.name,
        methods: methods === '*' ? null : new Set(methods.split(',')),
        matches: picomatch(pattern, { dot: true }),
        action: g.action,
        message: g.message,
      };
    });
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** The first rule that matches, or a refusal of a path that cannot be read; null: no rule applies. */
  decide(method: string, rawPath: string): RequestDecision | null {
    if (this.rules.length === 0) return null;
    const path = normalisedPath(rawPath);
    if (path === null) return { action: 'deny', rule: 'unreadable-path', message: 'the request path cannot be read unambiguously (bad or encoded separators)', request: `${method} ${rawPath}` };
    for (const rule of this.rules) {
      if (rule.methods && !rule.methods.has(method.toUpperCase())) continue;
      if (!rule.matches(path)) continue;
      return { action: rule.action, rule: rule.name, message: rule.message, request: `${method} ${path}` };
    }
    return null;
  }
}

/** The path as a server reads it, or null when it is ambiguous. */
export function normalisedPath(raw: string): string | null {
  if (!raw.startsWith('/')) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  // An encoded slash or backslash would split differently at the target; NUL ends strings early.
  if (/%2f|%5c|%00/i.test(raw) || decoded.includes('\0') || decoded.includes('\\')) return null;
  const out: string[] = [];
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}${decoded.endsWith('/') && out.length ? '/' : ''}`;
}
