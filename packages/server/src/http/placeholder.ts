/** Shown at `/` when the web app has not been built (`npm run build`). */
export const PLACEHOLDER_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>OpenCall</title></head>
<body><h1>OpenCall server is running</h1><p>The web app is not built. Run <code>npm run build</code> and restart.</p></body></html>`;
