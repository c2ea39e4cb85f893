import { Module } from '@nestjs/common';
import { DeliveryController } from './delivery.controller.js';
import { DeliveryHome } from './delivery.home.js';
import { DeliveryPagesController } from './delivery-pages.controller.js';
import { DeliveryQueueRepository } from './delivery-queue.repository.js';
import { DeliveryRevealService } from './delivery-reveal.service.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryService } from './delivery.service.js';

/** Generic two-channel delivery; credentials registers its reveal handler on DeliveryService. */
@Module({
  controllers: [DeliveryController, DeliveryPagesController],
  providers: [DeliveryRepository, DeliveryService, DeliveryRevealService, DeliveryQueueRepository, DeliveryHome],
  exports: [DeliveryService],
})
export class DeliveryModule {}
