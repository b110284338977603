// Scroll an element of the page (a Streamlit container, by its st-key-* class) into view, once per
// request: the server sends a new "nonce" for each click that should bring it into view, and
// reruns that send the same nonce again (or a remount of this component) scroll nothing.
const done = (globalThis.__evaldashScrolled ||= new Set());

export default function ({ data }) {
  const request = `${data.target}:${data.nonce}`;
  if (!data.nonce || done.has(request)) return;
  done.add(request);
  let tries = 0;
  const go = () => {
    const element = document.querySelector(`.${CSS.escape(data.target)}`);
    if (element) {
      // not under Streamlit's header bar, which lies over the top of the main area
      const header = document.querySelector('[data-testid="stHeader"]');
      element.style.scrollMarginTop = `${(header ? header.offsetHeight : 0) + 8}px`;
      element.scrollIntoView({ block: "start", behavior: "instant" });
    } else if (tries++ < 40) setTimeout(go, 50);  // drawn a moment after this component
  };
  requestAnimationFrame(go);
}
