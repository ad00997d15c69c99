// The local target's Alertmanager: the real binary, and (shared with kind) the webhook receiver that records
// each notification.
export { type AlertmanagerInstance, ALERTMANAGER_INSTALL_HINT, startAlertmanager } from './launcher.js';
export {
  type NotificationReceiver,
  type ReceivedNotification,
  startNotificationReceiver,
} from '../../shared/index.js';
