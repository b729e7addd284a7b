/** Builds the dashboard into dashboard/dist; the Paddock server serves it with SPA fallback. */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    // The server's CSP allows only same-origin scripts and styles: keep every asset a file.
    assetsInlineLimit: 0,
    sourcemap: false,
    rolldownOptions: {
      // The api, data and ui folders run nothing when imported: what a page does not use stays out
      // of its chunk (the AI SDK, through their index.ts, loads with the chat only).
      treeshake: {
        moduleSideEffects: [{ test: /\/dashboard\/src\/(api|data|ui)\/[^/]+\.tsx?$/, sideEffects: false }],
      },
    },
  },
  server: {
    // `vite --config dashboard/vite.config.ts` during development: send the API to a local server.
    proxy: { '/api': 'http://127.0.0.1:7070' },
  },
});
