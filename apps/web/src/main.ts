/**
 * Entry point of the calling page: load the server's page configuration, then start the app.
 * @packageDocumentation
 */
import { App } from './App.js';
import { loadConfig } from './config.js';

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) throw new Error('index.html has no #app element');
  try {
    const config = await loadConfig();
    await App.create(root, config);
  } catch (err) {
    const box = document.createElement('div');
    box.className = 'boot-error';
    box.setAttribute('role', 'alert');
    box.textContent = (err as Error).message;
    root.replaceChildren(box);
  }
}

void boot();
