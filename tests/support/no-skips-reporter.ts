// Vitest reporter: a run in which any test was skipped (or left as todo) fails. A skipped test
// proves nothing, and a service that did not start must never turn into a green run.
import type { Reporter, TestModule } from 'vitest/node';

export default class NoSkipsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'skipped' || state === 'pending') skipped.push(`${module.moduleId} > ${test.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    console.error(`\n${skipped.length} test(s) did not run; a run with skipped tests fails:\n  ${skipped.join('\n  ')}`);
    process.exitCode = 1;
  }
}
