// The `nurture` command as a user runs it: output and exit codes.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)('npx', ['tsx', 'cli/nurture.ts', ...args], { cwd: process.cwd() });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe('nurture validate', () => {
  it('accepts the demo campaign', async () => {
    const r = await run('validate', 'campaigns/saas-whitepaper-nurture.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid — campaign "saas-whitepaper-nurture"/);
  });

  it('lists problems with their lines and exits 1', async () => {
    const file = join(tmpdir(), `broken-${process.pid}.yaml`);
    await writeFile(file, 'id: x\nname: X\nfrom: { email: a@b.c }\nentry: { on: page.viewed }\nconsent: marketing_email\nscoring: { fit: [] }\nstages: { warm: 10, hot: 20 }\ntracks:\n  cold:\n    - wait: soon\n');
    const r = await run('validate', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('tracks.cold[0].wait (line 10): expected a duration like 5d');
  });

  it('names an email template that does not exist', async () => {
    const file = join(tmpdir(), `no-template-${process.pid}.yaml`);
    await writeFile(file, 'id: x\nname: X\nfrom: { email: a@b.c }\nentry: { on: page.viewed }\nconsent: marketing_email\nscoring: { fit: [] }\nstages: { warm: 10, hot: 20 }\ntracks:\n  cold:\n    - email: { template: welcom, subject: Hi }\n');
    const r = await run('validate', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('tracks.cold[0].email.template (line 10): no email template "welcom" (templates/welcom.mjml)');
  });

  it('refuses an alias bomb and a text nested too deeply with their lines, without a stack trace', async () => {
    const bomb = join(tmpdir(), `bomb-${process.pid}.yaml`);
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    await writeFile(bomb, `${levels.join('\n')}\n`);
    const exploded = await run('validate', bomb);
    expect(exploded.code).toBe(1);
    expect(exploded.stderr).toContain('(file) (line 2): the aliases of the campaign expand too much (more than 100 expansions): an alias bomb?');
    const deep = join(tmpdir(), `deep-${process.pid}.yaml`);
    await writeFile(deep, `id: x\ndescription: ${'['.repeat(100_000)}\n`);
    const nested = await run('validate', deep);
    expect(nested.code).toBe(1);
    expect(nested.stderr).toContain('(file) (line 2): the campaign is nested too deeply: more than 64 levels');
    expect(`${exploded.stderr}${nested.stderr}`).not.toMatch(/\n\s+at /);
  });

  it('lists warnings with their lines and suggestions; --strict fails on them, and passes a clean file', async () => {
    const file = join(tmpdir(), `warned-${process.pid}.yaml`);
    await writeFile(
      file,
      'id: x\nname: X\nfrom: { email: a@b.c }\nentry: { on: form.submited }\nconsent: marketing_email\n' +
        'scoring: { fit: [], behaviour: [{ on: form.submitted, points: 10, label: forms }] }\nstages: { warm: 10, hot: 20 }\n' +
        'tracks:\n  cold:\n    - email: { template: welcome, subject: "Hi {{lead.frist_name}}" }\n    - wait: 3d\n',
    );
    const [lenient, strict, clean] = await Promise.all([run('validate', file), run('validate', '--strict', file), run('validate', '--strict', 'campaigns/saas-whitepaper-nurture.yaml')]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/valid with 2 warnings — campaign "x"/);
    expect(lenient.stderr).toContain('warning: entry.on (line 4): unknown event type "form.submited", close to form.submitted at scoring.behaviour[0].on: one of them is probably misspelt');
    expect(lenient.stderr).toContain('warning: tracks.cold[0].email.subject (line 10): unknown lead attribute lead.frist_name; did you mean lead.first_name?');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('2 warnings; --strict fails on warnings');
    expect(clean.code).toBe(0);
  });

  it('exits 2 on a usage error', async () => {
    expect((await run('validate')).code).toBe(2);
  });
});

describe('nurture simulate', () => {
  it('prints the funnel and is reproducible with a seed', async () => {
    const a = await run('simulate', 'campaigns/hot-lead-seed002.yaml', '--leads', '500', '--days', '30', '--seed', '9');
    const b = await run('simulate', 'campaigns/hot-lead-seed002.yaml', '--leads', '500', '--days', '30', '--seed', '9');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/Funnel\n\s+enrolled\s+500/);
    expect(a.stdout).toContain('Time to qualify');
    expect(b.stdout).toBe(a.stdout);
  });

  it('rejects a bad number', async () => {
    const r = await run('simulate', 'campaigns/hot-lead-seed002.yaml', '--leads', 'many');
    expect(r.code).toBe(2);
  });
});
