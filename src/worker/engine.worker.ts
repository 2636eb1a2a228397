/// <reference lib="webworker" />
/**
 * The Web Worker that hosts the engine, so surfaces and the metric never block the page.
 * comlink turns EngineHost's methods into async calls from the page.
 */
import { expose } from 'comlink';
import { leaveCoreForRenderer } from './backends';
import { EngineHost } from './host';

expose(new EngineHost((probe) => {
  if (probe.available && probe.software) leaveCoreForRenderer();
}));
