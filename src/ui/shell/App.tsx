import { DropZone } from '../images/DropZone';
import { Header } from './Header';
import { HelpDialog } from './HelpDialog';
import { Lightbox } from '../results/Lightbox';
import { LabelEditor } from '../labels/LabelEditor';
import { Notices } from './Notices';
import { ResultsPanel } from '../results/ResultsPanel';
import { SkipLink } from './SkipLink';
import { StatusBar } from './StatusBar';
import { TemplatesEditor } from '../labels/TemplatesEditor';
import { UpdatePrompt } from './UpdatePrompt';

export function App() {
  return (
    <DropZone>
      <div className="app">
        <SkipLink />
        <Header />
        <div className="workspace">
          <aside className="sidebar" aria-label="Labels and prompts">
            <LabelEditor />
            <TemplatesEditor />
          </aside>
          <ResultsPanel />
        </div>
        <StatusBar />
      </div>
      <Lightbox />
      <HelpDialog />
      <Notices />
      <UpdatePrompt />
    </DropZone>
  );
}
