/// <reference lib="webworker" />
/**
 * The Web Worker that hosts the engine, so surfaces and the metric never block the page.
 * comlink turns EngineHost's methods into async calls from the page.
 */
import { expose } from 'comlink';
import './backends';
import { EngineHost } from './host';

expose(new EngineHost());
