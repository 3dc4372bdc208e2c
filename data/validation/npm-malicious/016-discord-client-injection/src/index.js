// SYNTHETIC, DEFANGED malwi validation sample - modelled on Discord client-injection stealers (PirateStealer style, 2021-2022); never run.
'use strict';
function codeBlock(text, lang) {
  return '```' + (lang || '') + '\n' + String(text).replace(/```/g, '`\u200b``') + '\n```';
}
function mention(id) {
  return '<@' + id + '>';
}
module.exports = { codeBlock, mention };
