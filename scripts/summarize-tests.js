// Prints the one plain closing line CI reads: "N passed, N failed" (", N skipped" when some were).
const fs = require('fs');
const file = process.argv[2];
let r;
try {
  r = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (e) {
  console.log('0 passed, 1 failed');
  console.error(`no test results in ${file}: ${e.message}`);
  process.exit(1);
}
const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
const skipped = r.numPendingTests + (r.numTodoTests || 0);
console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed > 0 || r.numTotalTests === 0 ? 1 : 0);
