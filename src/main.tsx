import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './worker/backends';
import { App } from './ui/App';
import './ui/app.css';

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
