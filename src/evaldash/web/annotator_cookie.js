// Remembers the annotator's typed name in this browser: a cookie the server reads
// (st.context.cookies) when a reload or a new tab opens a session. The component draws nothing.
// data: {name, cookie, path, max_age}; an empty name forgets it.

export default function ({ data }) {
  const prefix = `${data.cookie}=`;
  const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
  const value = data.name ? encodeURIComponent(data.name) : "";
  const attrs = `; path=${data.path}; samesite=strict`;
  if (value && found !== prefix + value) {
    document.cookie = `${prefix}${value}${attrs}; max-age=${data.max_age}`;
  } else if (!value && found !== undefined) {
    document.cookie = `${prefix}${attrs}; max-age=0`;
  }
}
