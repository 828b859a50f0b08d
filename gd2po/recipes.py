"""Registry of algorithm recipes by name. Adding an algorithm: one recipe file and one line here."""

from baselines.dapo import DAPO
from baselines.gdpo import GDPO
from baselines.grpo import GRPO
from gd2po.core.recipe import Recipe
from gd2po.method import GD2PO_FILTER_ONLY, GD2PO_HARD, GD2PO_REWEIGHT_ONLY, GD2PO_SNR

RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (GRPO, GDPO, DAPO, GD2PO_HARD, GD2PO_SNR, GD2PO_FILTER_ONLY, GD2PO_REWEIGHT_ONLY)
}
RECIPE_NAMES: tuple[str, ...] = tuple(RECIPES)


def get_recipe(name: str) -> Recipe:
    """The recipe registered as ``name``; unknown name → ValueError listing the allowed ones."""
    if name not in RECIPES:
        raise ValueError(f"recipe {name!r} is unknown; allowed: {', '.join(RECIPE_NAMES)}")
    return RECIPES[name]
