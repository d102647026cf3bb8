// `vigil guardrails test`: the decision, the rule and why, for the demo targets of `vigil dev`,
// without a hub, an agent or a database running; the exit status says the decision.
import { describe, expect, it, vi } from 'vitest';
import { runVigil } from './run-vigil.ts';

vi.setConfig({ testTimeout: 120_000 });

describe('vigil guardrails test', () => {
  it('when a DELETE hides in a DO block, then it prints which statement in which body and which rule denies it, and exits 3', async () => {
    const res = await runVigil(['guardrails', 'test', '--target', 'payments', "DO $$ BEGIN PERFORM 1; DELETE FROM invoices; END $$"], {});
    expect(res.stderr).toBe('');
    expect(res.stdout).toContain('runs: DELETE FROM invoices (in the DO block): DELETE, DELETE_WITHOUT_WHERE');
    expect(res.stdout).toContain('decision: deny by rule no-unbounded-writes, for DELETE without WHERE, in the DO block: add a WHERE clause');
    expect(res.code).toBe(3);
  });

  it('when the SQL cannot be read, then it says why and what it gets; a held statement exits 2, an allowed one 0', async () => {
    const dynamic = await runVigil(['guardrails', 'test', '--target', 'payments', "DO $$ BEGIN EXECUTE 'drop ' || 'table x'; END $$"], {});
    expect(dynamic.stdout).toContain('cannot read: EXECUTE of a string built at run time');
    expect(dynamic.code).toBe(3);
    const held = await runVigil(['guardrails', 'test', '--target', 'payments', 'TRUNCATE invoices'], {});
    expect(held.stdout).toContain('decision: hold for approval by rule drops-need-approval');
    expect(held.code).toBe(2);
    const allowed = await runVigil(['guardrails', 'test', '--target', 'payments', 'select * from invoices where id = 1'], {});
    expect(allowed.stdout).toContain('decision: allow (no rule matches)');
    expect(allowed.code).toBe(0);
  });

  it('when the target is HTTP, then the request is read as the agent reads its path', async () => {
    const res = await runVigil(['guardrails', 'test', '--target', 'demo-api', 'DELETE /v1/../%61dmin/users/7'], {});
    expect(res.stdout).toContain('request: DELETE /admin/users/7');
    expect(res.stdout).toContain('decision: deny by rule no-admin-deletes');
    expect(res.code).toBe(3);
  });

  it('when the target does not exist, then it says which do, and exits 1', async () => {
    const res = await runVigil(['guardrails', 'test', '--target', 'nope', 'select 1'], {});
    expect(res.stderr).toContain('no target named nope (targets: demo, payments, demo-shell, demo-api)');
    expect(res.code).toBe(1);
  });
});

describe('vigil guardrails test on an SSH target', () => {
  it('when a tree delete hides in sh -c after sudo, then it names the command, where it stands, and the rule', async () => {
    const res = await runVigil(['guardrails', 'test', '--target', 'demo-shell', `ls | grep x; sudo sh -c "r''m -fr /srv/data"`], {});
    expect(res.stderr).toBe('');
    expect(res.stdout).toContain("command 5: r''m -fr /srv/data, in sudo > sh -c");
    expect(res.stdout).toContain('words: "rm" "-fr" "/srv/data"');
    expect(res.stdout).toContain('decision: deny by rule no-tree-deletes');
    expect(res.code).toBe(3);
    const variable = await runVigil(['guardrails', 'test', '--target', 'demo-shell', 'x=rm; $x -rf /srv/data'], {});
    expect(variable.stdout).toContain('decision: deny by rule no-tree-deletes: it runs what the guardrails cannot read');
    expect(variable.code).toBe(3);
    const fine = await runVigil(['guardrails', 'test', '--target', 'demo-shell', 'rm notes.txt && ls -la | sort'], {});
    expect(fine.stdout).toContain('the line: allow (no rule matches)');
    expect(fine.code).toBe(0);
  });
});
