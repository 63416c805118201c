from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class AccountUserAdmin(UserAdmin):
    list_display = ("username", "user_id", "email", "is_staff", "is_active", "date_joined")
    search_fields = ("username", "user_id", "email")
    readonly_fields = ("user_id",)
    fieldsets = ((None, {"fields": ("user_id",)}), *UserAdmin.fieldsets)
