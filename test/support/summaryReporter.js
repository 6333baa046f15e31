/**
 * Prints one plain closing line, `Summary: N passed, N failed, N skipped`, that CI systems read without
 * knowing Jest's own format.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const line = `Summary: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`;
    process.stdout.write(`\n${line}\n`);
  }
}

module.exports = SummaryReporter;
