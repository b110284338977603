// Scroll an element of the page (a Streamlit container, by its st-key-* class) into view, once per
// request: the server sends a new "nonce" for each click that should bring it into view, and
// reruns that send the same nonce again (or a remount of this component) scroll nothing.
// What is drawn above the element a moment later (a chart's frame, a notice) pushes it down again:
// for SETTLE_MS after the scroll it is brought back whenever it has moved, until the user scrolls.
const done = (globalThis.__evaldashScrolled ||= new Set());
const SETTLE_MS = 2000;

export default function ({ data }) {
  const request = `${data.target}:${data.nonce}`;
  if (!data.nonce || done.has(request)) return;
  done.add(request);
  let tries = 0;
  const place = (element) => {
    // not under Streamlit's header bar, which lies over the top of the main area
    const header = document.querySelector('[data-testid="stHeader"]');
    element.style.scrollMarginTop = `${(header ? header.offsetHeight : 0) + 8}px`;
    element.scrollIntoView({ block: "start", behavior: "instant" });
    return element.getBoundingClientRect().top;
  };
  const settle = (element, top) => {
    let userScrolled = false;
    const stop = () => { userScrolled = true; };
    const events = ["wheel", "touchstart", "keydown", "mousedown"];
    events.forEach((e) => window.addEventListener(e, stop, { capture: true, passive: true }));
    const until = performance.now() + SETTLE_MS;
    const check = () => {
      if (userScrolled || performance.now() > until || !element.isConnected) {
        events.forEach((e) => window.removeEventListener(e, stop, { capture: true }));
        return;
      }
      if (Math.abs(element.getBoundingClientRect().top - top) > 2) top = place(element);
      setTimeout(check, 100);
    };
    setTimeout(check, 100);
  };
  const go = () => {
    const element = document.querySelector(`.${CSS.escape(data.target)}`);
    if (element) settle(element, place(element));
    else if (tries++ < 40) setTimeout(go, 50);  // drawn a moment after this component
  };
  requestAnimationFrame(go);
}
