// SYNTHETIC, DEFANGED malwi validation sample - modelled on LofyGang packages (2021-2022); never run.
'use strict';
exports.isEmail = (s) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(String(s));
exports.isLuhn = (s) => {
  const d = String(s).replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let n = +d[d.length - 1 - i];
    if (i % 2) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
    sum += n;
  }
  return d.length > 11 && sum % 10 === 0;
};
