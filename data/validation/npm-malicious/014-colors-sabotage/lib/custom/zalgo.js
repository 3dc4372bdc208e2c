// SYNTHETIC, DEFANGED malwi validation sample - modelled on colors.js / faker.js sabotage (2022); never run.
'use strict';
var marks = ['\u030d', '\u030e', '\u0304', '\u0305', '\u033f', '\u0311', '\u0306', '\u0310'];
module.exports = function zalgo(text) {
  return text
    .split('')
    .map(function (c) {
      var n = Math.floor(Math.random() * 4);
      for (var i = 0; i < n; i++) c += marks[Math.floor(Math.random() * marks.length)];
      return c;
    })
    .join('');
};
