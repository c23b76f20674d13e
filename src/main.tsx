import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { loadModel } from './state/engineBridge';
import { installTestHook } from './state/testHook';
import { App } from './ui/App';
import './ui/styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element.');

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Read-only store access for the Playwright suite; a no-op unless the browser is automated.
installTestHook();

// Start downloading the model at once: by the time the first image is dropped it is usually ready.
void loadModel();
