// How the shipped backbone (models/vit-mnist-fashion.safetensors) was made, as the commands that
// re-create it: docs/backbone.md shows the same commands (a test keeps the two equal).

/**
 * Two stages of full fine-tuning on Fashion-MNIST: 10 epochs from random weights with random
 * zoom, rotation and sub-pixel shifts (what lets its features transfer to MNIST's digits), then 2
 * epochs with shifts only from those weights (a fresh head; brings Fashion-MNIST back above 88%).
 */
export const PRETRAIN_STAGES: readonly string[] = [
  'npm start -- train --method full --merge none --dataset fashion-mnist --train-size 60000 --test-size 10000 --epochs 10 --batch 64 --backbone random --lr 2e-3 --warmup-epochs 0.5 --weight-decay 0.05 --drop-path 0 --augment 2 --augment-scale 0.85,1.5 --augment-rotate 15 --augment-plain 0.3 --eval-every 2 --log-every 25 --out runs/pretrain --save-model runs/pretrain/stage1.safetensors',
  'npm start -- train --method full --merge none --dataset fashion-mnist --train-size 60000 --test-size 10000 --epochs 2 --batch 64 --backbone runs/pretrain/stage1.safetensors --lr 5e-4 --warmup-epochs 0.2 --weight-decay 0.05 --drop-path 0 --augment 1 --eval-every 1 --log-every 25 --out runs/pretrain2 --save-model models/vit-mnist-fashion.safetensors',
];

/** The stages as one shell command. */
export const PRETRAIN_COMMAND = PRETRAIN_STAGES.join(' && \\\n  ');
